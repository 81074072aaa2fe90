"""`make bench`: the system as processes on PostgreSQL, driven over HTTP by concurrent clients."""
