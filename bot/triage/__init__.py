"""Triage by the clinic: every completed case goes to the clinicians' Telegram group, where a
clinician decides what the person should do; the bot relays messages both ways.

`desk` posts cases and runs the repeating job (posting, delivery of decisions, reminders),
`card` renders what clinicians see, `handlers` answers presses, replies and /queue,
`callbacks` encodes the buttons. Storage is bot/db/triage.py.
"""
