{{ fibonacci_resample(3) }}
