"""`make bench`: load benchmark of the API on a throwaway MariaDB and gunicorn (bench/run.py)."""
