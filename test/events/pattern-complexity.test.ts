// The expected numbers are event-ruler's own, from aws/event-ruler at commit
// 337e8d99026d3f6687f783535f157be8bf4ebbb7, src/test/software/amazon/event/ruler/:
// MachineComplexityEvaluatorTest.java (test names quoted per row), ByteMachineTest.java
// (testWildcardRuleIsNotDuplicated*) and GenericMachineTest.java (testEvaluateComplexity*).
import {
  EventPatternComplexityError,
  MAX_EVENT_PATTERN_COMPLEXITY,
  byteMachineComplexity,
  eventPatternComplexity,
  rulerPattern as P,
  type RulerPattern,
} from '../../lib/events/pattern-complexity';
import { AUTOSCALING_LAUNCH_FAILURE_PATTERN, eventPatterns, type EventPattern } from '../../lib/events/patterns';

/** Every order of `items` (event-ruler's PermutationsGenerator.generateAllPermutations). */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

const w = P.wildcard;

describe('byteMachineComplexity (MachineComplexityEvaluatorTest, one byte machine)', () => {
  it.each<[string, number, RulerPattern[]]>([
    ['testEvaluateOnlyWildcard', 1, [w('*')]],
    ['testEvaluateWildcardPatternWithoutWildcards', 1, [w('abc')]],
    ['testEvaluateOneWildcardLeadingCharTwoTrailingCharactersDifferent', 2, [w('*ab')]],
    ['testEvaluateOneWildcardLeadingCharTwoTrailingCharactersEqual', 3, [w('*aa')]],
    ['testEvaluateOneWildcardSecondLastChar', 2, [w('a*b')]],
    ['testEvaluateOneWildcardTrailingChar', 2, [w('aa*')]],
    ['testEvaluateOneWildcardNormalPositionTwoTrailingCharactersDifferent', 2, [w('a*bc')]],
    ['testEvaluateOneWildcardNormalPositionTwoTrailingCharactersEqual', 3, [w('a*bb')]],
    ['testEvaluateOneWildcardNormalPositionThreeTrailingCharactersDifferent', 3, [w('a*bcb')]],
    ['testEvaluateOneWildcardNormalPositionThreeTrailingCharactersEqual', 4, [w('a*bbb')]],
    ['testEvaluateTwoWildcardsLeadingCharAndNormalPosition', 4, [w('*ab*ad')]],
    ['testEvaluateTwoWildcardsLeadingCharAndSecondLastChar', 3, [w('*ab*d')]],
    ['testEvaluateTwoWildcardsLeadingCharAndTrailingChar', 4, [w('*aba*')]],
    ['testEvaluateTwoWildcardsBothNormalPositionTwoTrailingCharactersEqual', 5, [w('a*b*bb')]],
    ['testEvaluateTwoWildcardsBothNormalPositionTwoTrailingCharactersDifferent', 4, [w('a*b*cb')]],
    ['testEvaluateTwoWildcardsBothNormalPositionTwoTrailingCharactersDifferentLastCharUnique', 3, [w('a*b*cd')]],
    ['testEvaluateTwoWildcardsNormalPositionAndSecondLastChar', 4, [w('a*b*b')]],
    ['testEvaluateTwoWildcardsNormalPositionAndTrailingChar', 4, [w('a*bb*')]],
    ['testEvaluateTwoWildcardsThirdLastCharAndTrailingChar', 3, [w('ab*b*')]],
    ['testEvaluateFourWildcardsLeadingCharNormalPositionThirdLastCharAndTrailingChar', 7, [w('*ab*b*b*')]],
    ['testEvaluateLongSequenceofWildcards', 17, [w('*a*a*a*a*a*a*a*a*')]],
    ['testEvaluateAnythingButWildcard', 4, [P.anythingButWildcard(['a*b*b'])]],
    // One anything-but pattern: the shared first state counts it once, not twice.
    ['testEvaluateAnythingButWildcardMultiplePatternsViaSet', 6, [P.anythingButWildcard(['a*aaa', 'aa*aa'])]],
    ['testWildcardRuleIsNotDuplicated (ByteMachineTest)', 2, Array.from({ length: 10 }, () => w('1*2345'))],
    ['testWildcardRuleIsNotDuplicatedWildcardIsFirstChar (ByteMachineTest)', 2, Array.from({ length: 10 }, () => w('*123'))],
    ['testWildcardRuleIsNotDuplicatedWildcardIsSecondLastChar (ByteMachineTest)', 2, Array.from({ length: 10 }, () => w('1*2'))],
    ['testWildcardRuleIsNotDuplicatedWildcardIsLastChar (ByteMachineTest)', 2, Array.from({ length: 10 }, () => w('1*'))],
    ['testWildcardRuleIsNotDuplicatedWildcardIsThirdLastAndLastChar (ByteMachineTest)', 3, Array.from({ length: 10 }, () => w('12*3*'))],
  ])('%s: %i', (_test, expected, patterns) => {
    expect(byteMachineComplexity(patterns)).toBe(expected);
  });

  // testPatternPermutations: the same number whatever the order the patterns are added in.
  it.each<[string, number, RulerPattern[]]>([
    ['testEvaluateOnlyWildcardWithExactMatch', 1, [w('*'), P.exact('abc')]],
    ['testEvaluateOnlyWildcardWithWildcardMatch', 3, [w('*'), w('ab*c')]],
    ['testEvaluateTwoWildcardsNoCommonPrefix', 3, [w('ab*c'), w('x*xx')]],
    ['testEvaluateTwoWildcardsBothLeadingOneIsPrefixOfOther', 4, [w('*abc'), w('*abcde')]],
    ['testEvaluateTwoWildcardsBothNormalPosition', 4, [w('a*bcd'), w('ab*cd')]],
    ['testEvaluateTwoWildcardsBothNormalPositionOneIsPrefixOfOther', 4, [w('a*bc'), w('a*bcde')]],
    ['testEvaluateTwoWildcardsBothNormalPositionAllSameCharacter', 7, [w('a*aaa'), w('aa*aa')]],
    ['testEvaluateTwoWildcardsOneNormalPositionAndOneSecondLastCharacter', 4, [w('a*bc'), w('abc*d')]],
    ['testEvaluateTwoWildcardsOneNormalPositionAndOneSecondLastCharacterAllSameCharacter', 6, [w('a*aaa'), w('aaa*a')]],
    ['testEvaluateTwoWildcardsOneNormalPositionAndOneSecondLastCharacterAllSameCharacterButLast', 5, [w('a*aax'), w('aaa*x')]],
    ['testEvaluateTwoWildcardsOneNormalPositionAndOneTrailing', 4, [w('a*bc'), w('abc*')]],
    ['testEvaluateTwoWildcardsOneNormalPositionAndOneTrailingAllSameCharacter', 5, [w('a*aa'), w('aaa*')]],
    ['testEvaluateTwoWildcardsBothTrailingCharOneIsPrefixOfOther', 3, [w('abc*'), w('abcde*')]],
    ['testEvaluateThreeWildcardsTransitionFromSameState', 6, [w('ab*cd'), w('ab*wx'), w('ab*yz')]],
    ['testEvaluateOneWildcardLeadingCharWithExactMatch', 2, [w('*abc'), P.exact('abc')]],
    ['testEvaluateOneWildcardNormalPositionWithExactMatch', 2, [w('a*bc'), P.exact('abc')]],
    ['testEvaluateOneWildcardSecondLastCharWithExactMatch', 2, [w('ab*c'), P.exact('abc')]],
    ['testEvaluateOneWildcardTrailingCharWithExactMatch', 2, [w('abc*'), P.exact('abc')]],
    ['testEvaluateOneWildcardTrailingCharWithLongerExactMatch', 2, [w('abc*'), P.exact('abcde')]],
    [
      'testEvaluateOneWildcardTrailingCharWithLongerExactMatchPrefixMatchAndEqualsIgnoreCaseMatch',
      2,
      [w('abc*'), P.exact('abcde'), P.prefix('abcde'), P.equalsIgnoreCase('ABCDE')],
    ],
    [
      'testEvaluateOneWildcardTrailingCharWithVaryingLengthExactMatchPrefixMatchAndEqualsIgnoreCaseMatch',
      2,
      [w('abc*'), P.exact('abcde'), P.prefix('abcdef'), P.equalsIgnoreCase('ABCDEFG')],
    ],
    ['testEvaluateExistencePatternHasNoEffect', 2, [w('ab*c'), P.exact('abc'), P.exists()]],
    ['testEvaluateJustExactMatches', 0, [P.exact('abc'), P.exact('abcde')]],
    ['testEvaluateDuplicateWildcardPatterns', 2, [w('ab*c'), w('ab*c')]],
    ['testEvaluateWordEndingInSameLetterThatFollowsWildcard', 10, [w('F*eatureFeature'), w('Fe*atureFeature'), w('Fea*tureFeature')]],
    ['testEvaluateAnythingButWildcardMultiplePatterns', 7, [P.anythingButWildcard(['a*aaa']), P.anythingButWildcard(['aa*aa'])]],
    ['testEvaluateAnythingButWildcardWithWildcard', 7, [P.anythingButWildcard(['a*aaa']), w('aa*aa')]],
    ['testEvaluateWildcardWithAnythingButWildcard', 7, [w('a*aaa'), P.anythingButWildcard(['aa*aa'])]],
  ])('%s: %i in every order', (_test, expected, patterns) => {
    for (const order of permutations(patterns)) expect(byteMachineComplexity(order)).toBe(expected);
  });

  it('testEvaluateQuaminaExploder: 45', () => {
    const words = [
      'aahed*', 'aal*ii', 'aargh*', 'aarti*', 'a*baca', '*abaci', 'a*back', 'ab*acs', 'abaf*t', '*abaka', 'ab*amp', 'a*band', '*abase', 'abash*',
      'abas*k', 'ab*ate', 'aba*ya', 'abbas*', 'abbed*', 'ab*bes', 'abbey*', '*abbot', 'ab*cee', 'abea*m', 'abe*ar', 'a*bele', 'a*bers', 'abet*s',
      '*abhor', 'abi*de', 'a*bies', '*abled',
    ];
    expect(byteMachineComplexity(words.map(w))).toBe(45);
  });

  // How long it takes is a figure of `npm run bench`, not a test.
  it('testEvaluateBeyondMaxComplexity: stops counting at the cap', () => {
    expect(byteMachineComplexity([w('F*e*a*t*u*r*e*'.repeat(10000))], 100)).toBe(100);
  });
});

describe('eventPatternComplexity (the compiled EventBridge pattern)', () => {
  it('testEvaluateNestedMachinesViaNextNameStates: 11, the most complex field of a chain of fields', () => {
    const pattern: EventPattern = {
      abc: [{ prefix: 'a' }, 'abcdef', { suffix: 'z' }],
      def: [{ prefix: 'b' }, { wildcard: 'a*a*a*a*a*a*' }, { suffix: 'c' }],
      ghi: [{ prefix: 'a' }, 'abcdef', { suffix: 'z' }],
    };
    expect(eventPatternComplexity(pattern)).toBe(11);
  });

  // GenericMachineTest adds three rules to one machine; $or makes them three sub-rules of one.
  const threeRules: EventPattern = { $or: [{ a: [{ wildcard: 'a*bc' }] }, { b: [{ wildcard: 'a*aa' }] }, { c: [{ wildcard: 'xyz*' }] }] };
  it('testEvaluateComplexity: 3', () => expect(eventPatternComplexity(threeRules)).toBe(3));
  it('testEvaluateComplexityHitMax: 2 with a cap of 2', () => expect(eventPatternComplexity(threeRules, 2)).toBe(2));

  it.each<[string, number, EventPattern]>([
    // The JSON quotes are part of the value: "*free*" is `"*free*"`, a leading and a trailing
    // wildcard after a determinate first character, 3 (the "3 per *…*").
    ['one *…* wildcard', 3, { detail: { m: [{ wildcard: '*free*' }] } }],
    ['two *…* wildcards on one field', 6, { detail: { m: [{ wildcard: '*free*' }, { wildcard: '*Cidr*' }] } }],
    ['a *…* wildcard on each of two fields: the larger, not the sum', 3, { a: [{ wildcard: '*x*' }], b: [{ wildcard: '*y*' }] }],
    ['exact values, prefix, suffix, equals-ignore-case, exists and anything-but only', 0, {
      a: ['x', { prefix: 'p' }, { suffix: 's' }, { 'equals-ignore-case': 'E' }, { exists: true }, { 'anything-but': ['n', 'm'] }, true, null],
    }],
    ['an anything-but wildcard', 3, { a: [{ 'anything-but': { wildcard: '*x*' } }] }],
    ['a $or branch without a wildcard does not count', 3, { $or: [{ a: [{ wildcard: '*x*' }] }, { b: [{ prefix: 'p' }] }] }],
  ])('%s: %i', (_case, expected, pattern) => {
    expect(eventPatternComplexity(pattern)).toBe(expected);
  });

  it.each<[string, EventPattern]>([
    ['numeric', { a: [{ numeric: ['>', 0] } as never] }],
    ['cidr', { a: [{ cidr: '10.0.0.0/8' } as never] }],
    ['a number value', { a: [3] }],
    ['a string value event-ruler reads as an IP address', { a: ['10.0.0.1'] }],
    ['anything-but a number', { a: [{ 'anything-but': 3 }] }],
    ['an unknown operator', { a: [{ regex: 'x' } as never] }],
    ['two operators in one condition', { a: [{ prefix: 'a', suffix: 'b' } as never] }],
    ['consecutive wildcards', { a: [{ wildcard: 'a**b' }] }],
    ['$or with one branch', { $or: [{ a: ['x'] }] }],
    ['a reserved field name inside $or', { $or: [{ a: ['x'] }, { prefix: ['y'] }] }],
    ['an empty list', { a: [] }],
  ])('throws EventPatternComplexityError on %s rather than guess', (_case, pattern) => {
    expect(() => eventPatternComplexity(pattern)).toThrow(EventPatternComplexityError);
  });
});

describe('the stack’s patterns', () => {
  it(`all score at most MAX_EVENT_PATTERN_COMPLEXITY (${MAX_EVENT_PATTERN_COMPLEXITY}), as EventBridge accepts`, () => {
    const scores = Object.entries(eventPatterns('eks-ip-responder-prod-')).map(([name, pattern]) => ({ name, complexity: eventPatternComplexity(pattern) }));
    expect(scores).toHaveLength(3);
    expect(scores.filter((s) => s.complexity > MAX_EVENT_PATTERN_COMPLEXITY)).toEqual([]);
  });

  it('the Auto Scaling pattern stays well inside the limit', () => {
    expect(eventPatternComplexity(AUTOSCALING_LAUNCH_FAILURE_PATTERN)).toBeLessThanOrEqual(6);
  });

  it('the five-wildcard Auto Scaling pattern of before scores 15, which EventBridge rejects', () => {
    const before: EventPattern = {
      source: ['aws.autoscaling'],
      'detail-type': ['EC2 Instance Launch Unsuccessful'],
      detail: {
        StatusMessage: [
          { wildcard: '*free addresses*' },
          { wildcard: '*InsufficientFreeAddressesInSubnet*' },
          { wildcard: '*free Ipv4 addresses*' },
          { wildcard: '*InsufficientCidrBlocks*' },
          { wildcard: '*free cidr blocks*' },
        ],
      },
    };
    expect(eventPatternComplexity(before)).toBe(15);
    expect(eventPatternComplexity(before)).toBeGreaterThan(MAX_EVENT_PATTERN_COMPLEXITY);
  });
});
