"""Analytics (rules 3, 4.3-4.4, 7, 11-13): the quarterly forecast, staffing need, data currency and
charts. Everything is computed with set-based SQL from the register."""
