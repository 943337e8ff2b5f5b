DROP TABLE staff_events;
DROP FUNCTION staff_events_append_only();
