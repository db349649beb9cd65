"""The job runner below every domain: queue, step engine, job routes and `start_job`."""
