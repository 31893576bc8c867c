"""The blog's domain: no Flask request in here, only plain arguments and the database session."""
