// A price feed for trying the stock-spikes job: random-walk ticks for a few symbols, with a spike
// now and then, served to TCP clients as JSON lines (port 9999, like `nc -lk 9999`) or produced
// to a Kafka topic.
//   node --import tsx samples/stock-spikes/feed-prices.ts [--port 9999] [--rate 20]
//   node --import tsx samples/stock-spikes/feed-prices.ts --kafka 127.0.0.1:9092 [--topic prices]
import { createServer, type Socket } from "node:net";
import { parseArgs } from "node:util";
import { Kafka } from "kafkajs";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "9999" },
    rate: { type: "string", default: "20" },
    symbols: { type: "string", default: "ACME,GLOBEX,INITECH,UMBRELLA" },
    "spike-every": { type: "string", default: "15" },
    kafka: { type: "string" },
    topic: { type: "string", default: "prices" },
  },
});
const symbols = (values.symbols ?? "").split(",").filter(Boolean);
const prices = new Map(symbols.map((symbol) => [symbol, 50 + Math.random() * 150]));
const ticksPerSecond = Number(values.rate);
const spikeEveryMs = Number(values["spike-every"]) * 1000;
let nextSpike = Date.now() + spikeEveryMs;

/** The next tick: a small random step, or a jump of 8 to 15 % when a spike is due. */
function nextTick(): { symbol: string; price: number; ts: number } {
  const symbol = symbols[Math.floor(Math.random() * symbols.length)] ?? "ACME";
  const now = Date.now();
  let price = prices.get(symbol) ?? 100;
  if (now >= nextSpike) {
    nextSpike = now + spikeEveryMs;
    const jump = (0.08 + Math.random() * 0.07) * (Math.random() < 0.5 ? -1 : 1);
    price *= 1 + jump;
    console.log(`spike: ${symbol} ${jump > 0 ? "+" : ""}${(jump * 100).toFixed(1)}%`);
  } else {
    price *= 1 + (Math.random() - 0.5) * 0.004;
  }
  prices.set(symbol, price);
  return { symbol, price: Math.round(price * 100) / 100, ts: now };
}

if (values.kafka !== undefined) {
  const producer = new Kafka({ clientId: "price-feed", brokers: [values.kafka] }).producer();
  await producer.connect();
  console.log(`producing ${ticksPerSecond} ticks/s to ${values.topic} on ${values.kafka}`);
  setInterval(() => {
    const tick = nextTick();
    void producer.send({
      topic: values.topic ?? "prices",
      messages: [{ key: tick.symbol, value: JSON.stringify(tick), timestamp: String(tick.ts) }],
    });
  }, 1000 / ticksPerSecond);
} else {
  const clients = new Set<Socket>();
  const server = createServer((socket) => {
    clients.add(socket);
    socket.on("close", () => clients.delete(socket));
    socket.on("error", () => clients.delete(socket));
  });
  server.listen(Number(values.port), () => {
    console.log(`serving ${ticksPerSecond} ticks/s on port ${values.port}`);
  });
  setInterval(() => {
    const line = `${JSON.stringify(nextTick())}\n`;
    for (const client of clients) client.write(line);
  }, 1000 / ticksPerSecond);
}
