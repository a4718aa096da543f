"""The FAQ: the knowledge base, the ranker that matches colloquial questions, and its policy."""
