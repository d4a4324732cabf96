"""The audit records: the trail of calls (`trail`), the record of data changes, imports and
training (`changes`), and `outlay audit` (`cli`)."""
