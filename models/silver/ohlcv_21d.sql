{{ fibonacci_resample(21) }}
