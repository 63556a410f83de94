"""Pure rules of the clinic: no Qt, no database. Plain functions over plain dataclasses."""
