// Produces card transactions to Kafka for trying the fraud-detection job: ordinary payments of a
// few hundred cards, and now and then a burst (velocity) or an outsized payment (amount).
//   node --import tsx samples/fraud-detection/produce-transactions.ts [--brokers 127.0.0.1:9092] [--topic transactions] [--rate 20]
import { parseArgs } from "node:util";
import { Kafka, logLevel, Partitioners } from "kafkajs";

const { values } = parseArgs({
  options: {
    brokers: { type: "string", default: "127.0.0.1:9092" },
    topic: { type: "string", default: "transactions" },
    rate: { type: "string", default: "20" },
  },
});
const topic = values.topic ?? "transactions";
const kafka = new Kafka({
  clientId: "transaction-feed",
  brokers: (values.brokers ?? "").split(","),
  logLevel: logLevel.ERROR,
});
const admin = kafka.admin();
await admin.connect();
if (!(await admin.listTopics()).includes(topic)) {
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
}
await admin.disconnect();
const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
await producer.connect();

const MERCHANTS = ["Corner Cafe", "City Books", "Fuel 24", "Grocer & Sons", "Rail Tickets"];
let sequence = 0;
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;
const card = (): string => `card-${String(Math.floor(Math.random() * 300)).padStart(4, "0")}`;

/** Sends payments of `cardId`; each is keyed by card, so a card's payments stay in order. */
async function pay(cardId: string, amounts: readonly number[]): Promise<void> {
  await producer.send({
    topic,
    messages: amounts.map((amount) => {
      const transaction = {
        id: `tx-${Date.now()}-${sequence++}`,
        card: cardId,
        amount: Math.round(amount * 100) / 100,
        currency: "EUR",
        merchant: pick(MERCHANTS),
        ts: Date.now(),
      };
      return { key: cardId, value: JSON.stringify(transaction) };
    }),
  });
}

console.log(`producing about ${values.rate} transactions/s to ${topic}; Ctrl-C stops`);
setInterval(() => {
  const roll = Math.random();
  if (roll < 0.01) {
    const burst = card();
    console.log(`burst of 7 payments on ${burst}`);
    void pay(burst, [12, 15, 9, 14, 11, 13, 10]);
  } else if (roll < 0.02) {
    const big = card();
    console.log(`payment of 7500 on ${big}`);
    void pay(big, [7500]);
  } else {
    void pay(card(), [5 + Math.random() * 60]);
  }
}, 1000 / Number(values.rate));
