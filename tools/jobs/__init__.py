"""Jobs capability: get_job, how a caller follows the long work its calls handed to the queue."""

from tools.jobs.tool import register

__all__ = ["register"]
