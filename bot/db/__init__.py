"""Storage: consent you can prove, cases you can trace, data a person can erase.

Every repository function is a plain synchronous function of an ORM `Session`, its first
argument; it flushes but never commits. A unit of work is one such function (or a small one
composing several), run in one transaction by bot/db/database.py:

    added = await database.run(cases.add_photo, case_id, photo)

Nothing async runs inside a unit of work, and no session outlives it.
"""
