"""Triage by the clinic: every completed case goes to the clinicians' Telegram group, where a
clinician decides what the person should do; the bot relays messages both ways.

`desk` posts cases and runs the repeating job (posting, delivery of decisions, reminders), `copies`
prepares the clinic's copies of the photos. What clinicians see is bot/views/clinic_card.py, the
handlers of their presses and replies are in bot/clinic/. Storage is bot/db/triage.py.
"""
