"""The kombu side of the messaging interop test (Debian's python3-kombu, run with /usr/bin/python3).

kombu_peer.py publish URL EXCHANGE QUEUE ROUTING_KEY   publishes the three messages the test expects
kombu_peer.py consume URL EXCHANGE QUEUE ROUTING_KEY N  consumes N messages, prints one JSON line each
"""
import json
import sys

from kombu import Connection, Exchange, Queue


def main():
    mode, url, exchange_name, queue_name, routing_key = sys.argv[1:6]
    exchange = Exchange(exchange_name, 'direct', durable=True)
    queue = Queue(queue_name, exchange, routing_key=routing_key, durable=True)
    with Connection(url) as conn:
        if mode == 'publish':
            producer = conn.Producer()
            producer.publish({'i': 0, 'from': 'kombu'}, exchange=exchange, routing_key=routing_key,
                             serializer='json', declare=[queue], headers={'x-peer': 'kombu'})
            producer.publish({'i': 1, 'from': 'kombu', 'pad': 'x' * 2000}, exchange=exchange,
                             routing_key=routing_key, serializer='json', compression='zlib')
            producer.publish('plain text from kombu', exchange=exchange, routing_key=routing_key)
        elif mode == 'consume':
            wanted = int(sys.argv[6])
            seen = []

            def on_message(body, message):
                seen.append({'body': body, 'content_type': message.content_type,
                             'compression': message.headers.get('compression'),
                             'delivery_mode': message.properties.get('delivery_mode'),
                             'correlation_id': message.properties.get('correlation_id')})
                message.ack()

            with conn.Consumer([queue], callbacks=[on_message], accept=['json', 'text/plain']):
                while len(seen) < wanted:
                    conn.drain_events(timeout=10)
            for s in seen:
                print(json.dumps(s, sort_keys=True))
        else:
            raise SystemExit('unknown mode ' + mode)


if __name__ == '__main__':
    main()
