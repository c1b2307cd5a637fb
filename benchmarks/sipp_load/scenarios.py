"""The SIPp scenarios of the load benchmarks, generated per run: callers, agents, registration.

Timings are literal numbers in the XML because a `-key` cannot go into a numeric attribute.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PCAP_DIR = Path(os.environ.get("SIPP_PCAP_DIR", "/usr/share/sip-tester"))
SPEECH_PCAP = PCAP_DIR / "g711a.pcap"

_SDP = """v=0
      o=bench 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP {payloads}
      {rtpmaps}a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-16
      a=ptime:20
      a=sendrecv
"""
_PCMA_FIRST = _SDP.format(
    payloads="8 0 101", rtpmaps="a=rtpmap:8 PCMA/8000\n      a=rtpmap:0 PCMU/8000\n      "
)
_PCMA_ONLY = _SDP.format(payloads="8 101", rtpmaps="a=rtpmap:8 PCMA/8000\n      ")


def _speech() -> str:
    return (
        f'<nop><action><exec play_pcap_audio="{SPEECH_PCAP}" /></action></nop>'
        if SPEECH_PCAP.exists()
        else ""
    )


def _dtmf(pcap: Path, after_ms: int) -> str:
    play = f'<nop><action><exec play_pcap_audio="{pcap}" /></action></nop>'
    return f'<pause milliseconds="{after_ms}" />{play}'


def caller_scenario(
    service: str, caller: str, max_ms: int, dtmf: Path | None = None, dtmf_after_ms: int = 1500
) -> str:
    """`caller` may hold SIPp keywords, e.g. "130001[call_number]" (unique per call).

    With `dtmf` (an RFC 2833 pcap) the caller keys it in `dtmf_after_ms` after the answer
    (an IVR's menu choice) instead of speaking.
    """
    media = _speech() if dtmf is None else _dtmf(dtmf, dtmf_after_ms)
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench_caller">
  <send retrans="500"><![CDATA[

      INVITE sip:{service}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "{caller}" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:{service}@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:{caller}@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      User-Agent: acd-bench-caller
      Content-Type: application/sdp
      Content-Length: [len]

      {_PCMA_FIRST}
    ]]></send>
  <recv response="100" optional="true" />
  <recv response="180" optional="true" />
  <recv response="183" optional="true" />
  <recv response="200" rtd="true" rrs="true" />
  <send><![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "{caller}" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      [routes]
      Contact: <sip:{caller}@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  {media}
  <recv request="BYE" timeout="{max_ms}" ontimeout="give_up" />
  <send><![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
  <nop next="end" />
  <label id="give_up" />
  <send retrans="500"><![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "{caller}" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 2 BYE
      [routes]
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <recv response="200" />
  <label id="end" />
</scenario>
"""


@dataclass(frozen=True)
class Talk:
    """The agents' talk time: `mean_ms` every call, or exponential with that mean."""

    mean_ms: int
    exponential: bool = False

    def pause(self) -> str:
        if self.exponential:
            return f'<pause distribution="exponential" mean="{self.mean_ms}" />'
        return f'<pause milliseconds="{self.mean_ms}" />'


def agent_scenario(answer_ms: int, talk: Talk) -> str:
    answer = f'<pause milliseconds="{answer_ms}" />' if answer_ms > 0 else ""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench_agent">
  <recv request="INVITE" crlf="true" rrs="true" />
  <send><![CDATA[

      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:agent@[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]></send>
  {answer}
  <send retrans="500"><![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:agent@[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      {_PCMA_ONLY}
    ]]></send>
  <recv request="ACK" crlf="true">
    <action>
      <ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="peer" />
      <ereg regexp=".*" search_in="hdr" header="To:" check_it="true" assign_to="me" />
    </action>
  </recv>
  {_speech()}
  {talk.pause()}
  <send retrans="500"><![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From:[$me]
      To:[$peer]
      Call-ID: [call_id]
      CSeq: 101 BYE
      [routes]
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <recv response="200" />
</scenario>
"""


def register_scenario(contact_port: int, expires: int) -> str:
    """One REGISTER per line of the injection file (`number;[authentication ...]`)."""
    request = """REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[field0]@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[field0]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: {cseq} REGISTER
      Contact: <sip:[field0]@[local_ip]:{port};transport=[transport]>
      Expires: {expires}
      {auth}Max-Forwards: 70
      Content-Length: 0
"""
    first = request.format(cseq=1, port=contact_port, expires=expires, auth="")
    # SIPp expands a whole [authentication ...] keyword held in an injection field, not
    # fields nested inside the keyword.
    auth = "[field1]\n      "
    second = request.format(cseq=2, port=contact_port, expires=expires, auth=auth)
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench_register">
  <send retrans="500"><![CDATA[

      {first}
    ]]></send>
  <recv response="100" optional="true" />
  <recv response="401" auth="true" optional="true" next="auth" />
  <recv response="407" auth="true" optional="true" next="auth" />
  <recv response="200" next="ok" />
  <label id="auth" />
  <send retrans="500"><![CDATA[

      {second}
    ]]></send>
  <recv response="100" optional="true" />
  <recv response="200" />
  <label id="ok" />
</scenario>
"""
