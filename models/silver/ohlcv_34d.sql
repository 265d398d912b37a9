{{ fibonacci_resample(34) }}
