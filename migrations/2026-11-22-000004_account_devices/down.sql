DROP TABLE account_devices;
