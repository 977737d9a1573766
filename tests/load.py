"""A light HTTP load generator for the web-app test and benchmark.

The server and the load generator share this machine's two cores, so every millisecond of CPU the client spends per
request is taken from the server being measured. httpx (a fine client for tests) spends about a millisecond and a half
of CPU building each 43 kB multipart upload and parsing its answer; here each request's bytes are built once, sent over
keep-alive connections with asyncio streams, and only the status line and Content-Length are parsed."""
import asyncio, time
from urllib.parse import urlsplit

BOUNDARY = 'lesson2-load-boundary'

def upload_request(host:str, data:bytes, path:str='/predict', field:str='file')->bytes:
    "The complete bytes of an HTTP/1.1 multipart POST of `data` in form field `field`."
    body = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="x.jpg"\r\n'
            f'Content-Type: image/jpeg\r\n\r\n').encode() + data + f'\r\n--{BOUNDARY}--\r\n'.encode()
    head = (f'POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n'
            f'Content-Length: {len(body)}\r\n\r\n').encode()
    return head + body

async def read_response(reader)->tuple:
    "(status code, body, keep_alive) of one HTTP/1.1 response with a Content-Length."
    line = await reader.readline()
    if not line: raise ConnectionError('the server closed the connection without answering')
    status = int(line.split()[1])
    length, keep = 0, True
    while (line := await reader.readline()) not in (b'\r\n', b''):
        name, _, value = line.decode('latin-1').partition(':')
        if name.lower() == 'content-length': length = int(value)
        elif name.lower() == 'connection' and value.strip().lower() == 'close': keep = False
    return status, await reader.readexactly(length), keep

async def hammer(base:str, blobs:list, n:int, clients:int=16, bad_every:int=0)->tuple:
    "Send `n` uploads from `clients` keep-alive connections; return (status codes, latencies in ms, seconds)."
    url = urlsplit(base)
    good = [upload_request(url.netloc, b) for b in blobs]
    bad = upload_request(url.netloc, b'not a picture')
    codes, times, todo = [], [], iter(range(n))
    async def client():
        reader = writer = None
        try:
            for i in todo:
                if writer is None: reader, writer = await asyncio.open_connection(url.hostname, url.port)
                t = time.perf_counter()
                writer.write(bad if bad_every and i % bad_every == 0 else good[i % len(good)])
                await writer.drain()
                status, _, keep = await read_response(reader)
                times.append((time.perf_counter() - t) * 1000); codes.append(status)
                if not keep: writer.close(); reader = writer = None
        finally:
            if writer is not None: writer.close()
    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return codes, times, time.perf_counter() - start
