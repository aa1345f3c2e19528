"""The checkin service: every fact members log, with its rules; stored once and published once."""
