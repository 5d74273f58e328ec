// js-libp2p DHT nodes (@libp2p/kad-dht) for the Java DHT interop tests. One process runs several nodes;
// it prints one JSON object per line on stdout and takes one JSON command per line on stdin.
//
//   node kad-peer.mjs SERVERS CLIENTS
//       starts SERVERS nodes in DHT server mode and CLIENTS nodes in client mode, all on 127.0.0.1,
//       speaking /circular/kad/1.0.0 and keeping loopback/private addresses, then prints
//       {"event":"listening","nodes":[{"peerId":…,"addrs":[…],"mode":"server"|"client"},…]}.
//       Exits when stdin closes.
//
// Commands ({"id":N,"cmd":…}); each is answered by {"event":"done","id":N,…} or {"event":"error","id":N,…}:
//   {"cmd":"join","node":i,"addr":MULTIADDR}      dial, wait until the routing table is not empty
//   {"cmd":"table","node":i}                       {"peers":[peer id,…]} of the routing table
//   {"cmd":"provide","node":i,"key":HEX}           provide the multihash HEX (as a CIDv1 raw)
//   {"cmd":"find","node":i,"key":HEX}              {"providers":[{"peerId","addrs"}],"responders":[peer id,…]}
//   {"cmd":"local","node":i,"key":HEX}             {"providers":[peer id,…]} held in node i's provider store
//
// Keys are multihashes in hex; a CIDv1 with the raw codec (0x55) wraps them, so sha1 (0x11) keys work on
// the client side. js kad-dht 16.x servers decode keys as CIDs and reject sha1 multihashes (see docs/dht.md).
import './polyfill.mjs'
import { createInterface } from 'node:readline'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'

const PROTOCOL = '/circular/kad/1.0.0'
const RAW = 0x55
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const servers = Number(process.argv[2] ?? '1')
const clients = Number(process.argv[3] ?? '0')

async function startNode (server) {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    // js refuses more than 5 inbound connections per second from one host (inboundConnectionThreshold);
    // every peer here is 127.0.0.1 and a fast run dials faster than that, so loopback is allow-listed
    connectionManager: { allow: ['/ip4/127.0.0.1/ipcidr/8'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({
        protocol: PROTOCOL,
        clientMode: !server, // js defaults to client mode until it sees a public address: never on loopback
        peerInfoMapper: passthroughMapper, // the default drops loopback and private addresses
        initialQuerySelfInterval: 500
      })
    }
  })
}

const nodes = []
for (let i = 0; i < servers + clients; i++) {
  nodes.push(await startNode(i < servers))
}
out({
  event: 'listening',
  nodes: nodes.map((n, i) => ({
    peerId: n.peerId.toString(),
    addrs: n.getMultiaddrs().map((a) => a.toString()),
    mode: n.services.dht.getMode()
  }))
})

const cidOf = (hex) => CID.createV1(RAW, Digest.decode(Buffer.from(hex, 'hex')))

async function until (what, test, ms) {
  const deadline = Date.now() + ms
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(25)
  }
}

async function run (c) {
  const node = nodes[c.node]
  if (node == null) throw new Error(`no node ${c.node}`)
  const dht = node.services.dht
  const signal = AbortSignal.timeout(c.timeoutMs ?? 20000)
  switch (c.cmd) {
    case 'join': {
      const conn = await node.dial(multiaddr(c.addr), { signal })
      await until(`${conn.remotePeer} in the routing table of node ${c.node}`,
        async () => (await dht.routingTable.find(conn.remotePeer)) != null, 15000)
      return {}
    }
    case 'table': {
      const peers = []
      for (const bucket of dht.routingTable.kb.toIterable()) peers.push(bucket.peerId.toString())
      return { peers }
    }
    case 'provide': {
      for await (const e of dht.provide(cidOf(c.key), { signal })) {
        if (e.name === 'QUERY_ERROR') out({ event: 'query-error', id: c.id, from: e.from.toString(), message: String(e.error) })
      }
      return {}
    }
    case 'find': {
      const providers = new Map()
      const responders = new Set()
      for await (const e of dht.findProviders(cidOf(c.key), { signal })) {
        if (e.name === 'PEER_RESPONSE' && !e.from.equals(node.peerId)) responders.add(e.from.toString())
        if (e.name === 'PROVIDER') {
          for (const p of e.providers) providers.set(p.id.toString(), p.multiaddrs.map((a) => a.toString()))
          break
        }
      }
      return {
        providers: [...providers].map(([peerId, addrs]) => ({ peerId, addrs })),
        responders: [...responders]
      }
    }
    case 'local': {
      if (dht.providers == null) throw new Error('this @libp2p/kad-dht version hides its provider store')
      const ids = await dht.providers.getProviders(cidOf(c.key), { signal })
      return { providers: ids.map((p) => p.toString()) }
    }
    default:
      throw new Error(`unknown command ${c.cmd}`)
  }
}

const lines = createInterface({ input: process.stdin })
lines.on('line', (line) => {
  if (line.trim() === '') return
  let c
  try {
    c = JSON.parse(line)
  } catch (err) {
    out({ event: 'error', message: `bad command line: ${line}` })
    return
  }
  run(c).then(
    (result) => out({ event: 'done', id: c.id, ...result }),
    (err) => out({ event: 'error', id: c.id, cmd: c.cmd, message: String(err?.stack ?? err) }))
})
lines.on('close', async () => {
  await Promise.all(nodes.map((n) => n.stop()))
  process.exit(0)
})
