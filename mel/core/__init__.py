"""The core layer: database base and sessions, ids and time, periods, text, languages, settings,
paths, the audit log and the data version of figures. It imports nothing else of mel."""
