// A js-libp2p peer for the Java interop tests. It prints one JSON object per line on stdout.
//
//   node peer.mjs listen
//       listens on 127.0.0.1, serves the echo protocol, reports connections and identify results,
//       and exits when stdin closes.
//   node peer.mjs dial MULTIADDR STREAMS BYTES_PER_STREAM
//       dials MULTIADDR, pings it, waits for identify, echoes BYTES_PER_STREAM random bytes on each of
//       STREAMS concurrent streams, checks them, and exits (0 on success).
//
// With PSK_FILE=<swarm key file> in the environment the peer joins that private network (@libp2p/pnet).
import './polyfill.mjs'
import { createHash, randomBytes } from 'node:crypto'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { multiaddr } from '@multiformats/multiaddr'
import { preSharedKey } from '@libp2p/pnet'
import { readFileSync } from 'node:fs'

const ECHO = '/circular/test/echo/1.0.0'
const CHUNK = 64 * 1024
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const bytesOf = (chunk) => (chunk instanceof Uint8Array ? chunk : chunk.subarray())

const [mode, target, streamsArg, bytesArg] = process.argv.slice(2)

const node = await createLibp2p({
  addresses: { listen: mode === 'listen' ? ['/ip4/127.0.0.1/tcp/0'] : [] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: { identify: identify(), ping: ping() },
  ...(process.env.PSK_FILE ? { connectionProtector: preSharedKey({ psk: readFileSync(process.env.PSK_FILE) }) } : {})
})

await node.handle(ECHO, async (stream) => {
  try {
    for await (const chunk of stream) {
      if (!stream.send(chunk)) {
        await stream.onDrain()
      }
    }
    await stream.close()
  } catch (err) {
    out({ event: 'error', where: 'echo handler', message: String(err) })
  }
}, { maxInboundStreams: 64, maxOutboundStreams: 64 })

const identified = new Map()
node.addEventListener('peer:identify', (evt) => {
  const d = evt.detail
  const info = {
    event: 'identify',
    peerId: d.peerId.toString(),
    protocols: d.protocols,
    agentVersion: d.agentVersion,
    listenAddrs: d.listenAddrs.map((a) => a.toString())
  }
  identified.set(info.peerId, info)
  out(info)
})
node.addEventListener('connection:open', (evt) => {
  out({ event: 'connection', peerId: evt.detail.remotePeer.toString(), direction: evt.detail.direction })
})

async function echo (conn, seedIndex, total) {
  const stream = await conn.newStream(ECHO)
  const sent = createHash('sha256')
  const received = createHash('sha256')
  let receivedBytes = 0
  const reader = (async () => {
    for await (const chunk of stream) {
      const b = bytesOf(chunk)
      received.update(b)
      receivedBytes += b.length
    }
  })()
  for (let n = 0; n < total; n += CHUNK) {
    const chunk = randomBytes(Math.min(CHUNK, total - n))
    sent.update(chunk)
    if (!stream.send(chunk)) {
      await stream.onDrain()
    }
  }
  await stream.close()
  await reader
  const ok = receivedBytes === total && sent.digest('hex') === received.digest('hex')
  return { stream: seedIndex, bytes: receivedBytes, ok }
}

if (mode === 'listen') {
  out({ event: 'listening', peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map((a) => a.toString()) })
  process.stdin.resume()
  process.stdin.on('end', async () => { await node.stop(); process.exit(0) })
} else if (mode === 'dial') {
  try {
    out({ event: 'started', peerId: node.peerId.toString() })
    const conn = await node.dial(multiaddr(target), { signal: AbortSignal.timeout(20000) })
    const remote = conn.remotePeer.toString()
    out({ event: 'dialled', peerId: remote })
    const rtts = []
    for (let i = 0; i < 3; i++) {
      rtts.push(await node.services.ping.ping(conn.remotePeer, { signal: AbortSignal.timeout(10000) }))
    }
    out({ event: 'ping', rtts })
    const deadline = Date.now() + 10000
    while (!identified.has(remote) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const streams = Number(streamsArg)
    const bytes = Number(bytesArg)
    const results = await Promise.all(Array.from({ length: streams }, (_, i) => echo(conn, i, bytes)))
    out({ event: 'echo', results, ok: results.every((r) => r.ok) })
    await node.stop()
    process.exit(results.every((r) => r.ok) && identified.has(remote) ? 0 : 1)
  } catch (err) {
    out({ event: 'error', where: 'dial', message: String(err?.stack ?? err) })
    await node.stop()
    process.exit(2)
  }
} else {
  out({ event: 'error', message: 'usage: peer.mjs listen | dial MULTIADDR STREAMS BYTES' })
  process.exit(64)
}
