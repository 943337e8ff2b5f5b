DROP TABLE service_agencies;
DROP TABLE services;
DROP TABLE calendar_days;
DROP TABLE agencies;
