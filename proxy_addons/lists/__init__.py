"""Remote category lists, off the request path: fetching them into the on-disk cache the policy loader
reads (`fetch`), and the gateway's background refresh (`refresh`). The parsers are pure and live in
`proxy_addons.policy.lists`; policy loading itself never touches the network."""
