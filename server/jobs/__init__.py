"""Long work as jobs of one company (docs/jobs.md): `store` keeps the rows callers see, `runner` runs a
job's code (inline, or for the queue), `queue` is procrastinate on PostgreSQL and `outlay worker`."""
