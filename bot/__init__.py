"""A Telegram bot for AI-assisted skin checks through the Model Dermatology API."""

__version__ = "0.1.0"
