"""A webhook receiver for the demo: prints each alert it gets and whether its signature holds.

    python examples/webhook_receiver.py --port 9000 --secret whsec-demo-0123456789

then subscribe it:  radar subscribe --channel webhook --url http://127.0.0.1:9000/radar --secret whsec-demo-0123456789
Standard library only. A repeat of a delivery (same X-Radar-Delivery) is said so and dropped.
"""
import argparse
import hashlib
import hmac
import json
import time
from http.server import BaseHTTPRequestHandler, HTTPServer


def signature_holds(secret: str, body: bytes, header: str, tolerance_s: int = 300) -> bool:
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    expected = hmac.new(secret.encode(), parts.get("t", "").encode() + b"." + body, hashlib.sha256).hexdigest()
    fresh = parts.get("t", "").isdigit() and abs(time.time() - int(parts["t"])) <= tolerance_s
    return fresh and hmac.compare_digest(expected, parts.get("v1", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--secret", required=True)
    args = parser.parse_args()
    seen: set[str] = set()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            delivery = self.headers.get("X-Radar-Delivery", "?")
            ok = signature_holds(args.secret, body, self.headers.get("X-Radar-Signature", ""))
            message = json.loads(body or b"{}")
            repeat = " (a repeat: dropped)" if delivery in seen else ""
            seen.add(delivery)
            print(f"{'signed' if ok else 'BAD SIGNATURE'} {delivery}{repeat}: {message.get('type')} "
                  f"{message.get('candidate_name') or message.get('candidate_id')} for "
                  f"{message.get('role_title') or message.get('role_id')} fit {message.get('fit')} "
                  f"-> {message.get('link')}", flush=True)
            self.send_response(200 if ok else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_):
            pass

    print(f"listening on http://127.0.0.1:{args.port}/", flush=True)
    HTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
