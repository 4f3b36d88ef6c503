"""The clinic's side of the chat: presses on case cards, clinicians' replies and /queue in the
clinic's group. Posting cases and relaying decisions is the triage desk's
(bot/services/triage_desk.py)."""
