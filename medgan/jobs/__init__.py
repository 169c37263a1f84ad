"""Background jobs: a SQLite store, job kinds by name, and a detached worker process per job."""
