"""Text processing for news articles: cleaning, language identification, Luxembourgish-aware splitting."""
