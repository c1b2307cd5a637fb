"""Async helpers that drive SIPp (3.6, Debian ``sip-tester``) against Asterisk (PJSIP on
127.0.0.1:5060/UDP), and the scenarios they run (the XML files here, each documented in its
own header comment).

One module per concern, imported directly (this file re-exports nothing):

- ``common``: where sipp, its pcaps and Asterisk are (environment overrides), ``SippError``;
- ``process``: running one sipp (:func:`run_sipp` -> ``SippRun``) and its work dir; free
  ports come from :mod:`acd.labhost`;
- ``trace``: reading sipp's logs, error log, stats and message trace; BYEs for the dialogs
  a killed sipp left up;
- ``media``: RFC 2833 DTMF pcaps and the speech a phone sends (``build_dtmf_pcap``);
- ``calls``: a caller's call (:func:`place_call`) and an agent dialling a feature code
  (:func:`agent_dial`), both -> ``CallResult``;
- ``agent``: registration (``register``/``unregister``) and the agent's phone
  (``SippAgent``: ``offered_callers()``, ``answered_count()``, ``wait_for(kind)``...).

Asterisk / pjsip.conf settings the scenarios expect
----------------------------------------------------
* ``[global] endpoint_identifier_order=username,ip,anonymous`` (or
  ``username,auth_username,ip,anonymous``) so an agent (From user = endpoint name) is
  matched before the IP-identified caller endpoint. With ``ip`` first every REGISTER from
  127.0.0.1 lands on the caller endpoint and gets 403 ("Endpoint 'callers' has no configured
  AORs"). The option is applied at startup only: ``module reload res_pjsip.so`` shows the new
  value but keeps the old order. Caller numbers must not equal an agent endpoint name (such
  an INVITE is identified as that agent and challenged).
* callers: an endpoint (e.g. ``callers``, ``context=<ivr>``, no auth, ``allow=ulaw,alaw``,
  ``dtmf_mode=rfc4733``) plus ``type=identify`` ``match=127.0.0.1``.
* agents: endpoint ``<num>`` with ``auth=<num>-auth`` (``auth_type=digest``,
  ``username=<num>``, ``password=...``) and ``aors=<num>`` (``type=aor``, ``max_contacts=1``,
  ``remove_existing=yes``). ``qualify_frequency`` may be 0 or >0: the UAS answers OPTIONS.
* RTP: keep Asterisk's ``rtp.conf`` range (e.g. 20000-20999) out of the Linux ephemeral
  range (32768-60999) where these helpers pick sipp ports.
* Dialplan: ``Read()`` ends input on ``#`` by default - use ``t(...)`` to check a ``#``
  digit. Digits sent after the ``#`` that ended one ``Read()`` (one pcap, e.g.
  ``1001#123456#``) are picked up by the next ``Read()``.

A message arriving during a scenario's ``<pause>`` is "unexpected", hence the scenarios' tick
loops of ``<recv timeout=100 ontimeout=...>`` instead of pauses; a BYE/CANCEL landing while
a call sits on one of a loop's ``<nop>`` steps is caught by an ``optional="global"`` recv
placed (and jumped over) earlier in the scenario.
"""
