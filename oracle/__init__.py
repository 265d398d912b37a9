"""Independent oracles the SQL models are checked against (TA-Lib for the candlesticks)."""
