import { consumerBench } from '/work/main/bench/consumer.js';
console.log(await consumerBench(2, 3));
