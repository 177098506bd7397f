"""The repository's own stack: the parts of its example that are not the reusable library.

`demo` is what `make local` runs (`python -m stack demo`): sync-forks's daily timer against
`github_double`, a stand-in for the GitHub API on loopback. The library (`infra`) never imports
from here.
"""
