"""The services the handlers use: each a class built with what it needs (bot/services/container.py
builds them all), between the handlers above and storage, the API client and the views below.

`analysis` sends submitted cases to the API and retries parked ones, `delivery` brings results to
the person, `uploads` gives a case's photos as the API receives them, `intake` checks photos as
they arrive and acknowledges each batch, `api_queue` lets a bounded number of checks use the API
at once, `triage_desk` posts cases to the clinic and relays its decisions, `clinic_copies`
deletes the clinic's copies of cases that left, `retention` purges expired cases, and `tasks`
keeps the background work of all of them.
"""
