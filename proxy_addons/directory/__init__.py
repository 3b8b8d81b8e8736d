"""The company directory (LDAP / Active Directory) as a source of group membership, off the request path.

`client` asks the directory (ldap3, bounded timeouts, called from a worker thread); `cache` keeps the last
known membership and refreshes it in the background; `names` holds the name rules both share with the policy.
A request never waits on anything here: it reads the cache.
"""

from .cache import Membership
from .client import DirectoryClient, DirectoryError, GroupReport

__all__ = ["DirectoryClient", "DirectoryError", "GroupReport", "Membership"]
