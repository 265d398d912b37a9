{{ fibonacci_resample(8) }}
