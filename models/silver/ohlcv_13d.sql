{{ fibonacci_resample(13) }}
