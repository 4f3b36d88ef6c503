"""Running the bot for real: webhook, health and metrics, fair use of the API."""
