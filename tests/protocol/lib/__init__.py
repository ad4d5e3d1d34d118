"""The protocol test rig: stack.env, raw XMPP clients, the XEP-0114 component harness."""
