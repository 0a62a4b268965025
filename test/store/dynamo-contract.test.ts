/** The DynamoDB adapter (on dynalite, in-process) passes the store contract: a fresh table per test. */
import { storeContract } from './contract';
import { useEmbeddedDynamo } from '../support/store';

const dynamo = useEmbeddedDynamo();
let tables = 0;

storeContract('dynamo', () => dynamo.newStore(`contract-${++tables}`));
