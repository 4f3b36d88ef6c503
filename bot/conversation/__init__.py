"""The Telegram conversation: consent, photos, questionnaire, summary, analysis, result."""
