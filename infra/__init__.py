"""The CDK app of suno-callbacks: one stack composed of one construct per concern (DESIGN §1, §8)."""
