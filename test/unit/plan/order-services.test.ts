import { describe, expect, it } from 'vitest';
import { InternalError } from '../../../src/errors/index.js';
import { orderServices } from '../../../src/plan/order-services.js';
import { aService } from './builders.js';

const names = (services: { name: string }[]): string[] => services.map((service) => service.name);

describe('orderServices', () => {
  it('keeps name order for services without after:', () => {
    expect(names(orderServices([aService('c'), aService('a'), aService('b')]))).toEqual(['a', 'b', 'c']);
  });

  it('puts each service after every service it names in after:', () => {
    const services = [aService('api', { after: ['db', 'cache'] }), aService('cache', { after: ['db'] }), aService('db'), aService('web', { after: ['api'] })];
    expect(names(orderServices(services))).toEqual(['db', 'cache', 'api', 'web']);
  });

  it('breaks ties by name among services that became ready together', () => {
    const services = [aService('db'), aService('zeta', { after: ['db'] }), aService('alpha', { after: ['db'] }), aService('mid')];
    expect(names(orderServices(services))).toEqual(['db', 'alpha', 'mid', 'zeta']);
  });

  it('orders nothing by an after: entry naming a service outside the set', () => {
    expect(names(orderServices([aService('b', { after: ['stalled'] }), aService('a')]))).toEqual(['a', 'b']);
  });

  it('treats a cycle that reached the planner as tend\'s bug', () => {
    const services = [aService('a', { after: ['b'] }), aService('b', { after: ['a'] }), aService('c')];
    expect(() => orderServices(services)).toThrow(InternalError);
    expect(() => orderServices(services)).toThrow(/cycle among services a, b/);
  });
});
