"""The domain's types and pure rules: the steps of a case, the questionnaire, a diagnosis, the
advice tiers and their rules, the safeguards. No I/O and no Telegram here, so every layer can use
them."""
