{{ fibonacci_resample(5) }}
