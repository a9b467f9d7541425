"""Streams into and out of the sample's `tally` and `relay` models with grpcio.

Usage: python3 streaming_client.py HOST:PORT PROTO_DIR

PROTO_DIR holds the server's generated .proto (the sample writes blazerpc.proto). It is compiled
with grpc_tools.protoc into a temporary directory, as `python -m grpc_tools.protoc` would. Prints
what the calls returned as one JSON object on stdout; exits 1 (reasons on stderr) if any differs
from what the sample promises.
"""

import importlib
import json
import queue
import sys
import tempfile
import time
from pathlib import Path

import grpc
from grpc_tools import protoc


def compile_proto(proto_dir):
    """Generates <name>_pb2 and <name>_pb2_grpc for the directory's .proto and imports them."""
    proto = next(Path(proto_dir).glob('*.proto'))
    out = tempfile.mkdtemp(prefix='blazerpc-py-')
    if protoc.main(['protoc', f'-I{proto_dir}', f'--python_out={out}', f'--grpc_python_out={out}', str(proto)]) != 0:
        sys.exit(f'protoc could not compile {proto}')
    sys.path.insert(0, out)
    return importlib.import_module(f'{proto.stem}_pb2'), importlib.import_module(f'{proto.stem}_pb2_grpc')


def main(address, proto_dir):
    pb, services = compile_proto(proto_dir)
    summary = {'grpcio': grpc.__version__}
    with grpc.insecure_channel(address) as channel:
        stub = services.InferenceServiceStub(channel)

        # Client streaming: any iterable of requests; one response when the stream is closed.
        texts = ['the quick', 'brown fox jumps', '']
        summary['tally'] = {
            'words': stub.PredictTally((pb.TallyRequest(text=t) for t in texts), timeout=10).result,
            'empty': stub.PredictTally(iter([]), timeout=10).result,
            'many': stub.PredictTally((pb.TallyRequest(text='two words') for _ in range(1000)), timeout=10).result,
        }

        # Both ways, in lockstep. The requests are whatever is put in `outbox`, up to None (the
        # half-close), and the next text is sent only after the previous reply was read: a server
        # that held replies back until the half-close would run into the deadline.
        outbox = queue.Queue()
        replies = stub.PredictRelay(iter(outbox.get, None), timeout=5)
        transcript = []
        try:
            for text in ['hello', 'streaming', 'world']:
                outbox.put(pb.RelayRequest(text=text))
                transcript.append(f'> {text}')
                transcript.append(f'< {next(replies).result}')
            outbox.put(None)  # half-close: the server then ends its stream
            transcript += [f'< {reply.result}' for reply in replies]
        except grpc.RpcError:
            outbox.put(None)  # ends the request iterator; the status is in replies.code()
        summary['relay'] = {'transcript': transcript, 'code': replies.code().name}

        # Cancel a bidi call mid-way, after one exchange.
        outbox = queue.Queue()
        replies = stub.PredictRelay(iter(outbox.get, None), timeout=5)
        before = []
        try:
            outbox.put(pb.RelayRequest(text='one'))
            before.append(next(replies).result)
            replies.cancel()
            next(replies)
        except grpc.RpcError:
            pass  # the status is in replies.code()
        finally:
            outbox.put(None)
        summary['cancel'] = {'before': before, 'code': replies.code().name}

        # A deadline on a client stream that is still open: one message sent, never closed.
        outbox = queue.Queue()
        outbox.put(pb.TallyRequest(text='one'))
        started = time.monotonic()
        call = stub.PredictTally.future(iter(outbox.get, None), timeout=0.3)
        summary['deadline'] = {'timeout_ms': 300, 'code': call.code().name, 'after_ms': round((time.monotonic() - started) * 1000)}
        outbox.put(None)

        # The same channel still works afterwards.
        summary['afterwards'] = stub.PredictTally(iter([pb.TallyRequest(text='still serving')]), timeout=10).result

    print(json.dumps(summary))
    expected = {
        'tally': {'words': 5, 'empty': 0, 'many': 2000},
        'relay': {
            'transcript': ['> hello', '< HELLO', '> streaming', '< STREAMING', '> world', '< WORLD'],
            'code': 'OK',
        },
        'cancel': {'before': ['ONE'], 'code': 'CANCELLED'},
        'afterwards': 2,
    }
    wrong = [f'{key}: expected {value}, got {summary[key]}' for key, value in expected.items() if summary[key] != value]
    if summary['deadline']['code'] != 'DEADLINE_EXCEEDED':
        wrong.append(f"deadline: expected DEADLINE_EXCEEDED, got {summary['deadline']['code']}")
    if wrong:
        sys.exit('\n'.join(wrong))


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(*sys.argv[1:])
