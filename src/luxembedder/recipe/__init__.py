"""The end-to-end LuxEmbedder recipe: mine → train → evaluate → report, and the demo built on it."""
