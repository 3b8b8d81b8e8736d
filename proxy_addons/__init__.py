"""gonogo: go, time-box or no-go for social media at work, enforced by a mitmproxy gateway."""

__version__ = "0.1.0"
