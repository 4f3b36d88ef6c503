"""Storage: consent you can prove, cases you can trace, data a person can erase.

Every repository function takes an `AsyncSession` as its first argument, flushes but never
commits: the caller owns the unit of work, one session per update or job, e.g.

    async with sessionmaker.begin() as session:
        await cases.add_photo(session, case_id, photo)

A session is never shared between concurrent tasks.
"""
